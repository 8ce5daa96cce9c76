/*  fuzz_config.c - the config file reader (zc_config_load)

    Oracle: a file that loads names only hosts zchain could send to and
    ports in range; one that does not load says why.  */

#include "fuzz.h"
#include "../src/roles/zc_roles.h"

static char *s_path = NULL;

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_path) {
        fuzz_quiet ();
        s_path = zsys_sprintf ("/tmp/zchain-fuzz-config-%d.conf", (int) getpid ());
    }
    FILE *file = fopen (s_path, "wb");
    if (!file)
        return 0;
    size_t written = fwrite (data, 1, size, file);
    fclose (file);
    if (written != size)
        return 0;
    char *error = NULL;
    zc_config_t *config = zc_config_load (s_path, &error);
    if (config) {
        for (size_t i = 0; i < zc_config_size (config); i++) {
            const char *name = zc_config_name (config, i);
            zc_node_config_t *node = zc_config_node (config, name);
            zc_service_config_t *service = zc_config_service (config, name);
            if (node)
                FUZZ_ASSERT (zc_host_valid (node->host) && node->port > 0 && node->port <= 65535,
                             "node %s listens at a bad address", name);
            if (service)
                FUZZ_ASSERT (zc_host_valid (service->host) && service->port > 0
                          && service->port <= 65535, "%s listens at a bad address", name);
        }
        zc_config_destroy (&config);
    }
    else
        FUZZ_ASSERT (error, "refused without a reason");
    free (error);
    return 0;
}
