"""What leadership and counties read: the 整改台账 ledger, the weekly bulletin, feedback reports."""
