/* device.c — enumerates OpenCL platforms and devices, records what each can do, and applies the
 * `--device` / CLFER_DEVICE selector (auto, gpu, cpu, a vendor, P:D, or a name substring). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime_internal.h"

static const char *const NO_PLATFORM_HINT =
    "no OpenCL platform found: check that an ICD file exists in /etc/OpenCL/vendors/ (for NVIDIA, "
    "nvidia.icd containing libnvidia-opencl.so.1) and that its library loads, or install "
    "pocl-opencl-icd to run on the CPU";

const char *clfer_vendor_name(clfer_vendor vendor) {
  switch (vendor) {
    case CLFER_VENDOR_NVIDIA: return "nvidia";
    case CLFER_VENDOR_AMD: return "amd";
    case CLFER_VENDOR_INTEL: return "intel";
    case CLFER_VENDOR_POCL: return "pocl";
    case CLFER_VENDOR_OTHER: break;
  }
  return "other";
}

static int contains_ci(const char *haystack, const char *needle) {
  size_t n = strlen(needle);
  if (n == 0) return 1;
  for (const char *p = haystack; *p; p++)
    if (strncasecmp(p, needle, n) == 0) return 1;
  return 0;
}

static clfer_vendor classify_vendor(const char *platform_name, const char *vendor_name) {
  if (contains_ci(platform_name, "portable computing language") || contains_ci(platform_name, "pocl"))
    return CLFER_VENDOR_POCL;
  if (contains_ci(vendor_name, "nvidia") || contains_ci(platform_name, "nvidia")) return CLFER_VENDOR_NVIDIA;
  if (contains_ci(vendor_name, "advanced micro devices") || contains_ci(vendor_name, "amd") ||
      contains_ci(platform_name, "amd"))
    return CLFER_VENDOR_AMD;
  if (contains_ci(vendor_name, "intel") || contains_ci(platform_name, "intel")) return CLFER_VENDOR_INTEL;
  return CLFER_VENDOR_OTHER;
}

clfer_status clfer_device_selector_parse(const char *text, clfer_device_selector_t *out) {
  memset(out, 0, sizeof *out);
  if (!text || !*text || strcasecmp(text, "auto") == 0) { out->kind = CLFER_SELECT_AUTO; return CLFER_OK; }
  if (strcasecmp(text, "gpu") == 0) { out->kind = CLFER_SELECT_GPU; return CLFER_OK; }
  if (strcasecmp(text, "cpu") == 0) { out->kind = CLFER_SELECT_CPU; return CLFER_OK; }
  static const struct { const char *name; clfer_vendor vendor; } vendors[] = {
      {"nvidia", CLFER_VENDOR_NVIDIA}, {"amd", CLFER_VENDOR_AMD},
      {"intel", CLFER_VENDOR_INTEL},   {"pocl", CLFER_VENDOR_POCL}};
  for (size_t i = 0; i < sizeof vendors / sizeof vendors[0]; i++)
    if (strcasecmp(text, vendors[i].name) == 0) {
      out->kind = CLFER_SELECT_VENDOR;
      out->vendor = vendors[i].vendor;
      return CLFER_OK;
    }
  /* "P:D": both parts decimal, nothing else. */
  const char *colon = strchr(text, ':');
  if (colon && colon != text && colon[1]) {
    int digits = 1;
    for (const char *p = text; *p; p++)
      if (p != colon && !isdigit((unsigned char)*p)) digits = 0;
    if (digits) {
      out->kind = CLFER_SELECT_INDEX;
      out->platform_index = atoi(text);
      out->device_index = atoi(colon + 1);
      return CLFER_OK;
    }
    return clfer_set_error(CLFER_INVALID_ARGUMENT,
                           "device selector '%s': P:D must be two non-negative integers, e.g. 0:1", text);
  }
  if (strlen(text) >= sizeof out->name)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "device selector '%.40s...' is too long", text);
  out->kind = CLFER_SELECT_NAME;
  strcpy(out->name, text);
  return CLFER_OK;
}

clfer_status clfer_device_select(const clfer_device_selector_t *sel, const clfer_device_info_t *devices,
                                 int count, int *chosen) {
  *chosen = -1;
  if (count <= 0) return clfer_set_error(CLFER_NO_DEVICE, "%s", NO_PLATFORM_HINT);
  for (int i = 0; i < count && *chosen < 0; i++) {
    const clfer_device_info_t *d = &devices[i];
    switch (sel->kind) {
      case CLFER_SELECT_AUTO: if (d->is_gpu) *chosen = i; break;
      case CLFER_SELECT_GPU: if (d->is_gpu) *chosen = i; break;
      case CLFER_SELECT_CPU: if (d->is_cpu) *chosen = i; break;
      case CLFER_SELECT_VENDOR: if (d->vendor == sel->vendor) *chosen = i; break;
      case CLFER_SELECT_INDEX:
        if (d->platform_index == sel->platform_index && d->device_index == sel->device_index) *chosen = i;
        break;
      case CLFER_SELECT_NAME:
        if (contains_ci(d->name, sel->name) || contains_ci(d->platform_name, sel->name)) *chosen = i;
        break;
    }
  }
  if (*chosen < 0 && sel->kind == CLFER_SELECT_AUTO) {
    for (int i = 0; i < count && *chosen < 0; i++)
      if (devices[i].is_cpu) *chosen = i;
    if (*chosen < 0) *chosen = 0;
  }
  if (*chosen >= 0) return CLFER_OK;
  char what[200];
  switch (sel->kind) {
    case CLFER_SELECT_GPU: snprintf(what, sizeof what, "no GPU device"); break;
    case CLFER_SELECT_CPU: snprintf(what, sizeof what, "no CPU device"); break;
    case CLFER_SELECT_VENDOR: snprintf(what, sizeof what, "no %s device", clfer_vendor_name(sel->vendor)); break;
    case CLFER_SELECT_INDEX:
      snprintf(what, sizeof what, "no device %d:%d", sel->platform_index, sel->device_index);
      break;
    default: snprintf(what, sizeof what, "no device whose name contains '%s'", sel->name); break;
  }
  return clfer_set_error(CLFER_NO_DEVICE,
                         "%s among %d device(s); run `clfer devices` to list them (for NVIDIA, "
                         "/etc/OpenCL/vendors/nvidia.icd must contain libnvidia-opencl.so.1)",
                         what, count);
}

static void info_string(cl_device_id dev, cl_device_info what, char *buf, size_t size) {
  buf[0] = '\0';
  if (clGetDeviceInfo(dev, what, size, buf, NULL) != CL_SUCCESS) buf[0] = '\0';
  buf[size - 1] = '\0';
}

/* The cache the CPU forms size their chunks by. PoCL reports 0 where it cannot read
 * /sys/devices/system/cpu/cpu0/cache (some containers and VMs; cpuid there gave a hypervisor's
 * 508 MiB): such a CPU device gets 32 MiB, a core complex's last level on the AMD EPYCs the CPU
 * forms were measured on. CLFER_CPU_CACHE_BYTES overrides it on CPU devices. */
static cl_ulong cpu_cache_bytes(cl_ulong reported) {
  const char *env = getenv("CLFER_CPU_CACHE_BYTES");
  char *end;
  unsigned long long bytes = env ? strtoull(env, &end, 10) : 0;
  if (env && *env && !*end && bytes > 0) return (cl_ulong)bytes;
  return reported > 0 ? reported : (cl_ulong)32 << 20;
}

static void describe_device(clfer_device_info_t *d) {
  cl_device_type type = 0;
  cl_uint cu = 0, align_bits = 0;
  cl_ulong gmem = 0, lmem = 0, maxalloc = 0, cache = 0;
  size_t wg = 0;
  char ext[8192];
  clGetDeviceInfo(d->device, CL_DEVICE_TYPE, sizeof type, &type, NULL);
  clGetDeviceInfo(d->device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
  clGetDeviceInfo(d->device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof gmem, &gmem, NULL);
  clGetDeviceInfo(d->device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof lmem, &lmem, NULL);
  clGetDeviceInfo(d->device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof maxalloc, &maxalloc, NULL);
  clGetDeviceInfo(d->device, CL_DEVICE_GLOBAL_MEM_CACHE_SIZE, sizeof cache, &cache, NULL);
  clGetDeviceInfo(d->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
  clGetDeviceInfo(d->device, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof d->max_work_item_sizes,
                  d->max_work_item_sizes, NULL);
  clGetDeviceInfo(d->device, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof align_bits, &align_bits, NULL);
  info_string(d->device, CL_DEVICE_NAME, d->name, sizeof d->name);
  info_string(d->device, CL_DEVICE_VENDOR, d->vendor_name, sizeof d->vendor_name);
  info_string(d->device, CL_DRIVER_VERSION, d->driver_version, sizeof d->driver_version);
  info_string(d->device, CL_DEVICE_OPENCL_C_VERSION, d->opencl_c_version, sizeof d->opencl_c_version);
  info_string(d->device, CL_DEVICE_EXTENSIONS, ext, sizeof ext);
  d->is_gpu = (type & CL_DEVICE_TYPE_GPU) != 0;
  d->is_cpu = (type & CL_DEVICE_TYPE_CPU) != 0;
  d->compute_units = cu;
  d->global_mem_bytes = gmem;
  d->local_mem_bytes = lmem;
  d->max_alloc_bytes = maxalloc;
  d->global_mem_cache_bytes = d->is_cpu ? cpu_cache_bytes(cache) : cache;
  d->max_work_group_size = wg;
  d->mem_base_align_bytes = align_bits / 8;
  d->has_fp16 = strstr(ext, "cl_khr_fp16") != NULL;
  d->has_fp64 = strstr(ext, "cl_khr_fp64") != NULL;
  d->vendor = classify_vendor(d->platform_name, d->vendor_name);
}

clfer_status clfer_devices_list(clfer_device_info_t **devices, int *count) {
  *devices = NULL;
  *count = 0;
  cl_uint nplat = 0;
  cl_int err = clGetPlatformIDs(0, NULL, &nplat);
  if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || nplat == 0) return clfer_set_error(CLFER_NO_PLATFORM, "%s", NO_PLATFORM_HINT);
  if (err != CL_SUCCESS) return clfer__cl_status(err, "clGetPlatformIDs", __FILE__, __LINE__);
  cl_platform_id *plats = calloc(nplat, sizeof *plats);
  if (!plats) return clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory listing platforms");
  clGetPlatformIDs(nplat, plats, NULL);
  clfer_device_info_t *list = NULL;
  int n = 0;
  for (cl_uint p = 0; p < nplat; p++) {
    cl_uint ndev = 0;
    if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &ndev) != CL_SUCCESS || ndev == 0) continue;
    cl_device_id *devs = calloc(ndev, sizeof *devs);
    clfer_device_info_t *grown = realloc(list, (size_t)(n + (int)ndev) * sizeof *list);
    if (!devs || !grown) {
      free(devs);
      free(grown ? grown : list);
      free(plats);
      return clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory listing devices");
    }
    list = grown;
    clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, ndev, devs, NULL);
    for (cl_uint d = 0; d < ndev; d++) {
      clfer_device_info_t *info = &list[n++];
      memset(info, 0, sizeof *info);
      info->platform_index = (int)p;
      info->device_index = (int)d;
      info->platform = plats[p];
      info->device = devs[d];
      clGetPlatformInfo(plats[p], CL_PLATFORM_NAME, sizeof info->platform_name, info->platform_name, NULL);
      clGetPlatformInfo(plats[p], CL_PLATFORM_VERSION, sizeof info->platform_version,
                        info->platform_version, NULL);
      info->platform_name[sizeof info->platform_name - 1] = '\0';
      info->platform_version[sizeof info->platform_version - 1] = '\0';
      describe_device(info);
    }
    free(devs);
  }
  free(plats);
  if (n == 0) {
    free(list);
    return clfer_set_error(CLFER_NO_DEVICE,
                           "OpenCL platforms exist but expose no device: check the driver of each "
                           "ICD in /etc/OpenCL/vendors/, or install pocl-opencl-icd for the CPU");
  }
  *devices = list;
  *count = n;
  return CLFER_OK;
}
