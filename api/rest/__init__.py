"""The REST upload API (/api/v1) and its OpenAPI document."""
