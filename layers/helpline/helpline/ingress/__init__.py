"""Where provider requests enter: verify, parse (helpline.providers), apply the domain, answer."""
