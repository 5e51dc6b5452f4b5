"""The public GraphQL API (graphene 3) at /graphql."""
