"""The plan: text normalisation, the deadline parser, the unit directory, importers and checks."""
