"""The console scripts: Hydra apps over conf/.

Every app is a process of its own, so importing this package, which happens before any app module pulls
in torch's users, prepares that process's CPU memory (esc.cpu_memory) while nothing is allocated yet.
"""

from esc.cpu_memory import keep_freed_memory

keep_freed_memory()
