"""The web console: the Test Command window, a field-mapping playground and a job dashboard,
served on loopback by ``connector.py console``.

It reaches the integration only through its public entry points (``Connector``, the manifest
model, the field-mapping engine, the job state's reader), so it follows the manifest: forms,
groups and tabs are generated, never written per command.
"""
