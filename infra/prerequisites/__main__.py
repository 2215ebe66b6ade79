"""Pulumi entry point of the prerequisites program: `pulumi up -C infra/prerequisites --stack idf|usdf`."""

from infra.prerequisites.program import main

main()
