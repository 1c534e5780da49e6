"""The notifier service: item events in, auto-replies and notifications out over SMTP."""
