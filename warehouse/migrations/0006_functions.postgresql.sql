-- Lenient casts for values that come from quarantined records (they may not parse).
CREATE FUNCTION meta.try_int(x text) RETURNS integer LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN x::integer;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;

CREATE FUNCTION meta.try_timestamp(x text) RETURNS timestamp LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN x::timestamp;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;
