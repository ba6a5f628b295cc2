"""One function per use case: each checks the rules, writes the ledger and the audit trail, and commits once.
The only code that commits."""
