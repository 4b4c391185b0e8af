export { installXen, type XenServices, type InstallXenOptions, type DomainStateOptions, type PortReport } from './install.ts';
export { Xsm } from './xsm.ts';
export { DEBIAN_XEN_4_17, type XenBuildInfo } from './xen-version.ts';
