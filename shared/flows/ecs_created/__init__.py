"""ecs_created: new servers get the groups the policy requires (``steps``; ``readiness``: waiting
until a new server and its interfaces exist)."""
