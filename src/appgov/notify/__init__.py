"""Telling people what happened: the "domain is ready" email through a transactional outbox (written
in the transaction that marks the domain ready, sent by the mail sender) and in-app notifications
for the same event and for sync errors."""
