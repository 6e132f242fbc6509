-- Lenient casts for values that come from quarantined records (they may not parse).
CREATE MACRO meta.try_int(x) AS TRY_CAST(x AS integer);
CREATE MACRO meta.try_timestamp(x) AS TRY_CAST(x AS timestamp);
