"""The GraphQL schema: context, types, resolvers, free-form queries, cost limits, error mapping."""
