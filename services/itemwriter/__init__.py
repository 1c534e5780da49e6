"""The itemwriter service: a normalized mail in, an item created or appended to, an event out."""
