"""The parser service: raw mail in, normalized message out."""
