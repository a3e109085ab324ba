/* check_main.c: `riftlab-check`, the checker as its own binary (the same
 * as `riftlab check`; used by tests and bench while the runner grows). */
#include <string.h>

#include "checker/check_cli.h"

int main(int argc, char **argv)
{
    char name[] = "check";
    argv[0] = name;
    return check_main(argc, argv);
}
