"""The web app (`rectify web`): pages for leaders, units, coordinators and verifiers, and the
JSON API under /api. A thin edge: every action goes through flows.issue_actions."""
