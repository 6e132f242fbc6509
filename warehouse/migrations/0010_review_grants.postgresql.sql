-- Stewards record reviews; nothing else of theirs writes.
GRANT SELECT, INSERT ON quality.quarantine_review TO deflect_steward;
GRANT ALL ON quality.quarantine_review TO deflect_loader;
