"""Human sign-off given through the service: approvals and waivers, fed into later decisions."""
