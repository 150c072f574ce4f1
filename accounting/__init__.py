"""Chart of accounts, vouchers and postings, budgets and commitments, payouts and exports."""
