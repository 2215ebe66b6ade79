"""The project's own Python language host for the Pulumi engine.

Pulumi's host (`pulumi-language-python`) is a Go program that cannot be built from the package
registries this project installs from; this small one lets `pulumi preview/up/destroy` run the
Python program here. Facilities run Pulumi's own. The engine starts `pulumi-language-python`
(a wrapper the installer writes next to the `pulumi` binary) and drives it over gRPC."""
