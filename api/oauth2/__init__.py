"""The OAuth2 authorisation server (authlib) and the bearer-token side of resource protection."""
