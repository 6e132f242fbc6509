-- marts.published_deflection_counts held each refresh's unit x quarter suppression (migration
-- 0004). Since 0017 reporting.published_deflection_counts shows the audited vintages instead
-- (publication.md §2-§3), so nothing reads the table and the refresh no longer writes it.
DROP TABLE marts.published_deflection_counts;
