"""XML Schemas of the source interfaces and the schema registry (`schemas.registry`)."""
