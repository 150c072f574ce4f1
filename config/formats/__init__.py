"""Date formats per language (``FORMAT_MODULE_PATH``); what is not set here is Django's."""
