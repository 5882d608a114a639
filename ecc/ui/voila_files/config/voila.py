# Voilà settings of the command center (loaded by `ecc serve` via --Voila.config_file_paths).
# ruff: noqa
c = get_config()  # type: ignore[name-defined]  # noqa: F821

c.VoilaConfiguration.template = "ecc"  # ecc/ui/voila_files/voila/templates/ecc: no CDN requests
c.VoilaConfiguration.show_tracebacks = False  # viewers see a sentence, never a traceback
# the address cannot pick another template or theme (`?template=lab` would also bypass
# the preheated pools and start a kernel per request)
c.VoilaConfiguration.allow_template_override = "NO"
c.VoilaConfiguration.allow_theme_override = "NO"
# a taken port is an error, never a quiet move to another one the proxy does not know
c.Voila.port_retries = 0
# every line of the dashboards' log says when: what a crowd waited for reads off it
c.Voila.log_format = "%(asctime)s.%(msecs)03d [%(name)s]%(highlevel)s %(message)s"
c.Voila.log_datefmt = "%H:%M:%S"
c.VoilaExecutor.cell_error_instruction = "This view could not be loaded; please try again."
# Voilà's page posts a kernel shutdown on unload with an XSRF cookie it never sets: without
# this every closed tab leaves its kernel running (culling below is the backstop).
c.Voila.tornado_settings = {"disable_check_xsrf": True}
# A kernel whose page is gone (a crashed browser, a lost network, a tab closed before its
# unload post) is shut down within two minutes: 90 s without a connection or a message,
# checked every 15 s. A page still open keeps its kernel (its websocket is connected);
# the preheated pools' kernels are never culled (Voilà's pool manager skips them).
c.MappingKernelManager.cull_idle_timeout = 90
c.MappingKernelManager.cull_interval = 15
c.MappingKernelManager.cull_connected = False
# A kernel short of CPU (a crowd opening pages together) can send a cell's output a few
# seconds after the cell's reply. nbclient waits 4 s for it by default, then goes on
# without it: the page never got its widgets (5 of 25 pages in a burst). Waiting costs
# nothing when the output is there: it ends as soon as the kernel says it is idle.
c.VoilaExecutor.iopub_timeout = 120
