"""The Atlassian Cloud connector: site validation, the HTTP client with its retry policy and
pagination, and one declarative stream per data set."""
