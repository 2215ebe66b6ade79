"""The post-deploy suite, a product of its own: `alertdist-postdeploy` proves, right after
`pulumi up`, that alerts reach every broker and the archive, from a stack's outputs alone."""
