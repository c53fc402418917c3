// SPDX-License-Identifier: MIT
/* placeholder: being written */
typedef int fg_placeholder_t;
