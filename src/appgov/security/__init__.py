"""Security primitives the rest of appgov relies on: secrets encrypted at rest, masking."""
