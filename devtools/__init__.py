"""Development and test helpers: a local OpenSSH SFTP server for the demo, the tests and the
benchmark, a one-call ingestion of a source, and a scan of the warehouse for strings (personal
data leak tests). Never imported by the production packages (tests/test_layers.py)."""
