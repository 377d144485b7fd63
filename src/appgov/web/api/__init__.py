"""The REST API (``/api/v1``), documented in OpenAPI, under the console's sign-in."""
