"""Pulumi entry point: `pulumi up --stack idf|usdf|local`."""

from infra.program import main

main()
