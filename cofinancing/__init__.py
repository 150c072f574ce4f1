"""Co-financed projects (ESF style): partners, funding sources, budgets, time sheets, reports."""
