"""Discovery endpoints: the settings document (draft §7) and the template query (draft §8.2)."""
