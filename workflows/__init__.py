"""The application state machine, its guards, role permissions and the workflow services."""
