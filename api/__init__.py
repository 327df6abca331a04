"""The investigation API, grouped by concern.

- ``http``: the FastAPI application, its dependencies, metrics middleware and the ``/ui`` page.
- ``gql``: the GraphQL schema — request context, types, entity resolvers, free-form and named
  queries, cost limits, error mapping, the response-cache extension.
- ``security``: who may see what — tokens, roles and permissions, police scope, masking, the scoped
  store every read passes through, the audit log and its extension, production hygiene checks.
- ``workflow``: what investigators do — cases, reviews, referral, the detection runner.
- ``cli``/``commands``/``settings``: the ``medfraud`` command and the API's settings.

Pictures, caches and warm-up are not here: they sit in :mod:`graph.serving`, above the port.
"""
