"""What is said and how it travels: message templates, channels, the delivery ledger, apprise."""
