"""The generic executor: loads a plugin manifest, validates inputs, dispatches commands.

It knows nothing about Microsoft Graph: command handlers, input checks and the API client
reach it through a :class:`~executor.registry.Registry` that the plugin's ``commands``
package fills in.
"""
