"""Reference data (places, units, the check catalogue, policies, holidays) and its loader."""
