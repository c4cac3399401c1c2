"""Cloud adapters: SDK clients, retries, and the gateway the pipeline talks to.

The pipeline never touches an SDK client directly: it calls :class:`~shared.cloud.gateway.
NetworkGateway` (ports and security groups) and :class:`~shared.cloud.gateway.ServerGateway`
(ECS), which count every call, classify failures and validate ids before they reach a URL.
"""
