"""The three flows, each as its steps: ``change_request``, ``ecs_created``, ``sg_drift``; with what
they share: ``policy`` (which groups a server needs) and ``cts`` (reading CTS traces)."""
