"""audit: `audit:log` reads the records the core appends to `<root>/audit/audit.log`."""
