"""The web surface: HTML pages and the JSON API, thin twins over the same service calls."""
