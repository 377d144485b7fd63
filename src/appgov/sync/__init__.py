"""The sync engine: resumable runs of every stream of a domain into storage, and the app change log."""
