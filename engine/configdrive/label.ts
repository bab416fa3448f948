/**
 * The config drive's volume label: one rule for the ISO writer, the CLI's `--label` and
 * `/instance/configDrive/@label`.
 *
 * ECMA-119 (8.4.13) makes the volume identifier d-characters (7.4.1: A-Z, 0-9 and `_`), which
 * would refuse the label guests look for: cloud-init finds its drive by `config-2` or
 * `CONFIG-2` (`blkid -t LABEL=...`), cloudbase-init and Ignition by `config-2`, older
 * CloudStack guests by `config`. So the rule is the one the real writers and readers
 * share: ASCII letters, digits, `_`, and of ECMA-119's a-characters `-` and `.`, at most the
 * field's 32 bytes. xorriso writes `config-2` and `cfg.drive-2` alike (with the same warning
 * that neither is ECMA-119), and blkid, `isoinfo -d` and `xorriso -pvd_info` read either back
 * as written. No space, which xorriso warns is a poor automatic mount point name.
 */

/** Default label: the one cloud-init, cloudbase-init and Ignition look for. */
export const DEFAULT_LABEL = 'config-2';

/** The volume identifier field of the primary volume descriptor: 32 bytes. */
export const MAX_LABEL_LENGTH = 32;

const LABEL = new RegExp(`^[A-Za-z0-9_.-]{1,${MAX_LABEL_LENGTH}}$`);

/** What is wrong with `label` as a volume label, or undefined when it is one. */
export function volumeLabelProblem(label: string): string | undefined {
  if (LABEL.test(label)) return undefined;
  return `volume label ${JSON.stringify(label)} must be 1 to ${MAX_LABEL_LENGTH} of A-Z a-z 0-9 _ - . (config-2 for cloud-init)`;
}
