"""The web layer: one blueprint per concern (public pages, embeds, API, auth, admin) and static assets."""
