<?xml version="1.0" encoding="UTF-8"?>
<!--
  domforge default transform: instance.xml (Eucalyptus 4.3+ format, plus domforge's
  extension elements) to a libvirt domain.

  This file is meant to be edited by the node's admin. domforge parses it strictly,
  renders it with an in-process XSLT 1.0 engine (results checked against libxslt),
  and validates every result against libvirt's own domain schema before anything
  reaches the hypervisor. Run "domforge render" with the instance file to see what
  an edit does, without touching libvirt.

  One stylesheet, three entry points, as in Eucalyptus:
    /instance  -> the whole <domain>
    /nic       -> one <interface> (an eni-XXXX.xml stub, for hot-plug)
    /volume    -> one <disk>      (a vol-XXXX.xml stub, for hot-plug)

  Parameters (set with "domforge render" param options, like xsltproc stringparam):
    diskCache    libvirt <driver cache> for image disks (default: none)
    consoleType  "file" (serial console to consoleLogPath, default) or "pty"
-->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="xml" indent="yes" omit-xml-declaration="yes"/>

  <xsl:param name="diskCache" select="'none'"/>
  <xsl:param name="consoleType" select="'file'"/>

  <!-- Handy values computed once. -->
  <xsl:variable name="hv" select="/instance/hypervisor/@type"/>
  <xsl:variable name="platform" select="/instance/os/@platform"/>
  <!-- Machine type and architecture come from domforge's <machine> extension; Eucalyptus
       instances without it get the i440fx "pc" machine on x86_64. -->
  <xsl:variable name="machine">
    <xsl:choose>
      <xsl:when test="/instance/machine/@type"><xsl:value-of select="/instance/machine/@type"/></xsl:when>
      <xsl:otherwise>pc</xsl:otherwise>
    </xsl:choose>
  </xsl:variable>
  <xsl:variable name="arch">
    <xsl:choose>
      <xsl:when test="/instance/machine/@arch"><xsl:value-of select="/instance/machine/@arch"/></xsl:when>
      <xsl:when test="/instance/hypervisor/@bitness = '32'">i686</xsl:when>
      <xsl:otherwise>x86_64</xsl:otherwise>
    </xsl:choose>
  </xsl:variable>
  <!-- q35 has no IDE controller: legacy disks and the config drive go on SATA there. -->
  <xsl:variable name="isQ35" select="contains($machine, 'q35')"/>
  <!-- When virtio is off, disks go on IDE (Eucalyptus's legacy sd->hd rename, for old
       kernels such as RHEL 6 images) unless the instance asks for SCSI, which then sits
       on a virtio-scsi controller. -->
  <xsl:variable name="legacyBus">
    <xsl:choose>
      <xsl:when test="/instance/features/legacyDiskBus = 'scsi'">scsi</xsl:when>
      <xsl:when test="$isQ35 or $arch = 'aarch64'">sata</xsl:when>
      <xsl:otherwise>ide</xsl:otherwise>
    </xsl:choose>
  </xsl:variable>

  <!-- ================================================================== -->
  <!-- /instance: the whole domain                                         -->
  <!-- ================================================================== -->
  <xsl:template match="/instance">
    <!-- Xen has no virtio bus: stop here rather than hand libvirt a domain that cannot boot. -->
    <xsl:if test="$hv = 'xen' and disks/diskPath[@targetDeviceBus = 'virtio']">
      <xsl:message terminate="yes">Xen instance <xsl:value-of select="name"/>: disk <xsl:value-of select="disks/diskPath[@targetDeviceBus = 'virtio']/@targetDeviceName"/> asks for the virtio bus, which Xen does not provide (use targetDeviceBus="xen" or "scsi")</xsl:message>
    </xsl:if>
    <domain>
      <xsl:attribute name="type"><xsl:value-of select="$hv"/></xsl:attribute>
      <name><xsl:value-of select="name"/></name>
      <uuid><xsl:value-of select="uuid"/></uuid>
      <description>
        <xsl:text>Eucalyptus instance </xsl:text><xsl:value-of select="name"/>
        <xsl:if test="string(VmType)"> (<xsl:value-of select="VmType"/>)</xsl:if>
        <xsl:if test="string(reservation)">, reservation <xsl:value-of select="reservation"/></xsl:if>
        <xsl:if test="string(owner)">, owner <xsl:value-of select="owner"/></xsl:if>
      </description>
      <memory unit="KiB"><xsl:value-of select="memoryKB"/></memory>
      <currentMemory unit="KiB"><xsl:value-of select="memoryKB"/></currentMemory>
      <!-- Hugepages: guest RAM from the host's hugetlbfs pool. A page size in KiB selects the
           pool (2048 = 2 MiB, 1048576 = 1 GiB); without one libvirt uses the default size. -->
      <xsl:if test="features/hugepages[not(@enabled = 'false')]">
        <memoryBacking>
          <hugepages>
            <xsl:if test="features/hugepages/@pageSizeKiB">
              <page unit="KiB">
                <xsl:attribute name="size"><xsl:value-of select="features/hugepages/@pageSizeKiB"/></xsl:attribute>
              </page>
            </xsl:if>
          </hugepages>
        </memoryBacking>
      </xsl:if>
      <vcpu placement="static"><xsl:value-of select="cores"/></vcpu>
      <!-- A hugepages nodeset names the host NUMA nodes the memory must come from. -->
      <xsl:if test="features/hugepages[not(@enabled = 'false')]/@nodeset">
        <numatune>
          <memory mode="strict">
            <xsl:attribute name="nodeset"><xsl:value-of select="features/hugepages/@nodeset"/></xsl:attribute>
          </memory>
        </numatune>
      </xsl:if>
      <xsl:if test="$hv = 'kvm' or $hv = 'qemu'">
        <!-- Guests can tell they run on a Eucalyptus-style cloud from SMBIOS. -->
        <sysinfo type="smbios">
          <system>
            <entry name="manufacturer">Eucalyptus</entry>
            <entry name="product">Eucalyptus Instance</entry>
            <entry name="serial"><xsl:value-of select="name"/></entry>
          </system>
        </sysinfo>
      </xsl:if>
      <xsl:call-template name="os"/>
      <xsl:if test="$hv != 'xen'">
        <!-- ACPI is what lets the guest hot-plug disks and NICs (and shut down cleanly). -->
        <features>
          <acpi/>
          <apic/>
          <xsl:if test="$platform = 'windows' and ($hv = 'kvm' or $hv = 'qemu')">
            <hyperv>
              <relaxed state="on"/>
              <vapic state="on"/>
              <spinlocks state="on" retries="8191"/>
            </hyperv>
          </xsl:if>
        </features>
      </xsl:if>
      <xsl:if test="cpuPassthrough = 'true' and $hv = 'kvm'">
        <cpu mode="host-passthrough"/>
      </xsl:if>
      <clock>
        <xsl:attribute name="offset">
          <xsl:choose>
            <xsl:when test="$platform = 'windows'">localtime</xsl:when>
            <xsl:otherwise>utc</xsl:otherwise>
          </xsl:choose>
        </xsl:attribute>
      </clock>
      <on_poweroff>destroy</on_poweroff>
      <on_reboot>restart</on_reboot>
      <on_crash>destroy</on_crash>
      <devices>
        <xsl:for-each select="disks/diskPath">
          <xsl:call-template name="disk"/>
        </xsl:for-each>
        <!-- EBS volumes: the controller already holds each volume's <disk>; copy it as is. -->
        <xsl:for-each select="volumes/volume[stateName = 'attached' or stateName = 'attaching']">
          <xsl:copy-of select="libvirt/disk"/>
        </xsl:for-each>
        <xsl:if test="configDrive/@path">
          <xsl:call-template name="config-drive"/>
        </xsl:if>
        <xsl:if test="$legacyBus = 'scsi' and $hv != 'xen'">
          <controller type="scsi" index="0" model="virtio-scsi"/>
        </xsl:if>
        <xsl:if test="NicType != 'none'">
          <xsl:for-each select="nics/nic">
            <xsl:call-template name="interface"/>
          </xsl:for-each>
        </xsl:if>
        <xsl:for-each select="extraNics/nic">
          <xsl:call-template name="interface"/>
        </xsl:for-each>
        <xsl:call-template name="console"/>
      </devices>
    </domain>
  </xsl:template>

  <!-- Hyper-V: libvirt's Hyper-V driver applies only part of the domain XML (name, memory,
       vCPUs, IDE and SCSI disks, NICs, serial ports), so this domain holds only that.
       Generation 1 machines boot from IDE: the root disk is hda, further disks go on SCSI.
       A NIC's bridge is the Hyper-V virtual switch (its name or id, from bridgeDeviceName).
       The serial console is a named pipe on the Hyper-V host. There is no config drive:
       the guest gets its data through KVP items (domforge kvp). -->
  <xsl:template match="/instance[hypervisor/@type = 'hyperv']" priority="2">
    <domain type="hyperv">
      <name><xsl:value-of select="name"/></name>
      <uuid><xsl:value-of select="uuid"/></uuid>
      <description>
        <xsl:text>Eucalyptus instance </xsl:text><xsl:value-of select="name"/>
        <xsl:if test="string(VmType)"> (<xsl:value-of select="VmType"/>)</xsl:if>
        <xsl:if test="string(reservation)">, reservation <xsl:value-of select="reservation"/></xsl:if>
        <xsl:if test="string(owner)">, owner <xsl:value-of select="owner"/></xsl:if>
      </description>
      <memory unit="KiB"><xsl:value-of select="memoryKB"/></memory>
      <currentMemory unit="KiB"><xsl:value-of select="memoryKB"/></currentMemory>
      <vcpu placement="static"><xsl:value-of select="cores"/></vcpu>
      <os>
        <type>hvm</type>
        <boot dev="hd"/>
      </os>
      <devices>
        <xsl:for-each select="disks/diskPath">
          <disk device="disk">
            <xsl:attribute name="type"><xsl:value-of select="@sourceType"/></xsl:attribute>
            <source>
              <xsl:choose>
                <xsl:when test="@sourceType = 'block'">
                  <xsl:attribute name="dev"><xsl:value-of select="."/></xsl:attribute>
                </xsl:when>
                <xsl:otherwise>
                  <xsl:attribute name="file"><xsl:value-of select="."/></xsl:attribute>
                </xsl:otherwise>
              </xsl:choose>
            </source>
            <xsl:choose>
              <xsl:when test="position() = 1">
                <target dev="hda" bus="ide"/>
              </xsl:when>
              <xsl:otherwise>
                <target bus="scsi">
                  <xsl:attribute name="dev">sd<xsl:value-of select="substring('abcdefghijklmnopqrstuvwxyz', position() - 1, 1)"/></xsl:attribute>
                </target>
              </xsl:otherwise>
            </xsl:choose>
          </disk>
        </xsl:for-each>
        <xsl:for-each select="volumes/volume[stateName = 'attached' or stateName = 'attaching']">
          <xsl:copy-of select="libvirt/disk"/>
        </xsl:for-each>
        <xsl:if test="count(disks/diskPath) &gt; 1">
          <controller type="scsi" index="0"/>
        </xsl:if>
        <xsl:if test="NicType != 'none'">
          <xsl:for-each select="nics/nic">
            <interface type="bridge">
              <mac>
                <xsl:attribute name="address"><xsl:value-of select="translate(@mac, 'ABCDEF', 'abcdef')"/></xsl:attribute>
              </mac>
              <source>
                <xsl:attribute name="bridge"><xsl:value-of select="@bridgeDeviceName"/></xsl:attribute>
              </source>
            </interface>
          </xsl:for-each>
        </xsl:if>
        <serial type="pipe">
          <source>
            <xsl:attribute name="path">\\.\pipe\<xsl:value-of select="name"/>-com1</xsl:attribute>
          </source>
          <target port="0"/>
        </serial>
      </devices>
    </domain>
  </xsl:template>

  <!-- Boot: direct kernel boot when the instance has a kernel, else from the first disk. -->
  <xsl:template name="os">
    <os>
      <xsl:choose>
        <xsl:when test="$hv = 'xen' and kernel">
          <type>linux</type>
        </xsl:when>
        <xsl:when test="$hv = 'xen'">
          <type>hvm</type>
        </xsl:when>
        <xsl:otherwise>
          <type>
            <xsl:attribute name="arch"><xsl:value-of select="$arch"/></xsl:attribute>
            <xsl:attribute name="machine"><xsl:value-of select="$machine"/></xsl:attribute>
            <xsl:text>hvm</xsl:text>
          </type>
        </xsl:otherwise>
      </xsl:choose>
      <xsl:choose>
        <xsl:when test="kernel">
          <kernel><xsl:value-of select="kernel"/></kernel>
          <xsl:if test="ramdisk">
            <initrd><xsl:value-of select="ramdisk"/></initrd>
          </xsl:if>
          <cmdline>
            <xsl:text>root=</xsl:text>
            <xsl:call-template name="root-device"/>
            <xsl:choose>
              <xsl:when test="$hv = 'xen'"> console=hvc0</xsl:when>
              <xsl:otherwise> console=ttyS0</xsl:otherwise>
            </xsl:choose>
          </cmdline>
        </xsl:when>
        <xsl:otherwise>
          <boot dev="hd"/>
        </xsl:otherwise>
      </xsl:choose>
      <xsl:if test="$hv = 'kvm' or $hv = 'qemu'">
        <smbios mode="sysinfo"/>
      </xsl:if>
    </os>
  </xsl:template>

  <!-- root= for direct kernel boot: the image's own directive when it has one (EUCA-9908),
       else the root disk as the guest kernel will name it: vdX with virtio, xvdX on Xen,
       sdX otherwise (libata names IDE disks sdX too). Partition 1 unless the name has one. -->
  <xsl:template name="root-device">
    <xsl:variable name="dev">
      <xsl:choose>
        <xsl:when test="string(disks/root/@device)"><xsl:value-of select="disks/root/@device"/></xsl:when>
        <xsl:otherwise><xsl:value-of select="disks/diskPath[1]/@targetDeviceName"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:choose>
      <!-- written without the root= prefix, as Eucalyptus stores it; tolerated with it -->
      <xsl:when test="starts-with(normalize-space(rootDirective), 'root=')">
        <xsl:value-of select="substring-after(normalize-space(rootDirective), 'root=')"/>
      </xsl:when>
      <xsl:when test="string(normalize-space(rootDirective))">
        <xsl:value-of select="normalize-space(rootDirective)"/>
      </xsl:when>
      <xsl:otherwise>
        <!-- the drive letters and partition after the name's prefix (xvd, vd, sd or hd) -->
        <xsl:variable name="suffix">
          <xsl:choose>
            <xsl:when test="starts-with($dev, 'xvd')"><xsl:value-of select="substring($dev, 4)"/></xsl:when>
            <xsl:otherwise><xsl:value-of select="substring($dev, 3)"/></xsl:otherwise>
          </xsl:choose>
        </xsl:variable>
        <xsl:text>/dev/</xsl:text>
        <xsl:choose>
          <xsl:when test="starts-with($dev, 'vd')"><xsl:value-of select="$dev"/></xsl:when>
          <xsl:when test="$hv = 'xen'">xvd<xsl:value-of select="$suffix"/></xsl:when>
          <xsl:otherwise>sd<xsl:value-of select="$suffix"/></xsl:otherwise>
        </xsl:choose>
        <xsl:if test="translate(substring($dev, string-length($dev)), '0123456789', '') != ''">1</xsl:if>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- One image or ephemeral disk (context: a diskPath). -->
  <xsl:template name="disk">
    <xsl:variable name="name" select="@targetDeviceName"/>
    <!-- virtio when the controller already chose it for this disk -->
    <xsl:variable name="virtio" select="@targetDeviceBus = 'virtio' or starts-with($name, 'vd')"/>
    <xsl:variable name="bus">
      <xsl:choose>
        <xsl:when test="$virtio">virtio</xsl:when>
        <xsl:when test="$hv = 'xen'">xen</xsl:when>
        <xsl:when test="@targetDeviceType = 'floppy'">fdc</xsl:when>
        <xsl:otherwise><xsl:value-of select="$legacyBus"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:variable name="prefix">
      <xsl:choose>
        <xsl:when test="$bus = 'virtio'">vd</xsl:when>
        <xsl:when test="$bus = 'xen'">xvd</xsl:when>
        <xsl:when test="$bus = 'ide'">hd</xsl:when>
        <xsl:when test="$bus = 'fdc'">fd</xsl:when>
        <xsl:otherwise>sd</xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <!-- The letter (and partition number, if any) after the two-letter prefix: sda1 -> a1. -->
    <xsl:variable name="suffix">
      <xsl:choose>
        <xsl:when test="starts-with($name, 'xvd')"><xsl:value-of select="substring($name, 4)"/></xsl:when>
        <xsl:otherwise><xsl:value-of select="substring($name, 3)"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <disk>
      <xsl:attribute name="type"><xsl:value-of select="@sourceType"/></xsl:attribute>
      <xsl:attribute name="device"><xsl:value-of select="@targetDeviceType"/></xsl:attribute>
      <xsl:if test="$hv != 'xen'">
        <driver name="qemu" type="raw">
          <xsl:attribute name="cache"><xsl:value-of select="$diskCache"/></xsl:attribute>
        </driver>
      </xsl:if>
      <source>
        <xsl:choose>
          <xsl:when test="@sourceType = 'block'">
            <xsl:attribute name="dev"><xsl:value-of select="."/></xsl:attribute>
          </xsl:when>
          <xsl:otherwise>
            <xsl:attribute name="file"><xsl:value-of select="."/></xsl:attribute>
          </xsl:otherwise>
        </xsl:choose>
      </source>
      <target>
        <xsl:attribute name="dev"><xsl:value-of select="concat($prefix, $suffix)"/></xsl:attribute>
        <xsl:attribute name="bus"><xsl:value-of select="$bus"/></xsl:attribute>
      </target>
      <xsl:if test="string(@serial)">
        <serial><xsl:value-of select="@serial"/></serial>
      </xsl:if>
    </disk>
  </xsl:template>

  <!-- The config drive: a read-only raw ISO on a CDROM. On "pc" it takes hdd on IDE (as
       CloudStack does, leaving hdc for a user ISO); on q35 the next free sdX on SATA; on
       aarch64 the next free sdX on a virtio-scsi bus. -->
  <xsl:template name="config-drive">
    <xsl:variable name="bus">
      <xsl:choose>
        <xsl:when test="$arch = 'aarch64'">scsi</xsl:when>
        <xsl:when test="$isQ35">sata</xsl:when>
        <xsl:otherwise>ide</xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:variable name="dev">
      <xsl:choose>
        <xsl:when test="$bus = 'ide'">hdd</xsl:when>
        <xsl:otherwise>
          <xsl:call-template name="next-free-sd"/>
        </xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <!-- A disk's letter follows its name's prefix: the third character, the fourth after xvd. -->
    <xsl:if test="$bus = 'ide' and disks/diskPath[not(@targetDeviceBus = 'virtio' or starts-with(@targetDeviceName, 'v'))][substring(@targetDeviceName, 3 + starts-with(@targetDeviceName, 'xvd'), 1) = 'd']">
      <xsl:message terminate="yes">instance <xsl:value-of select="name"/>: the config drive needs IDE slot hdd, which a disk already takes</xsl:message>
    </xsl:if>
    <disk type="file" device="cdrom">
      <driver name="qemu" type="raw"/>
      <source>
        <xsl:attribute name="file"><xsl:value-of select="configDrive/@path"/></xsl:attribute>
      </source>
      <target>
        <xsl:attribute name="dev"><xsl:value-of select="$dev"/></xsl:attribute>
        <xsl:attribute name="bus"><xsl:value-of select="$bus"/></xsl:attribute>
      </target>
      <readonly/>
    </disk>
    <xsl:if test="$bus = 'scsi' and $legacyBus != 'scsi'">
      <controller type="scsi" index="0" model="virtio-scsi"/>
    </xsl:if>
  </xsl:template>

  <!-- First sdX whose letter no non-virtio disk and no volume uses (context: /instance). -->
  <xsl:template name="next-free-sd">
    <xsl:param name="letters" select="'abcdefghijklmnopqrstuvwxyz'"/>
    <xsl:variable name="l" select="substring($letters, 1, 1)"/>
    <xsl:choose>
      <xsl:when test="$l = ''">
        <xsl:message terminate="yes">instance <xsl:value-of select="name"/>: no free sdX name left for the config drive</xsl:message>
      </xsl:when>
      <xsl:when test="disks/diskPath[not(@targetDeviceBus = 'virtio' or starts-with(@targetDeviceName, 'v'))][substring(@targetDeviceName, 3 + starts-with(@targetDeviceName, 'xvd'), 1) = $l] or volumes/volume/libvirt/disk/target[@dev = concat('sd', $l)]">
        <xsl:call-template name="next-free-sd">
          <xsl:with-param name="letters" select="substring($letters, 2)"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise>sd<xsl:value-of select="$l"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- One NIC on its bridge (context: nics/nic, extraNics/nic, or an ENI stub's /nic). -->
  <xsl:template name="interface">
    <xsl:param name="hypervisor" select="$hv"/>
    <xsl:variable name="model">
      <xsl:choose>
        <xsl:when test="@model"><xsl:value-of select="@model"/></xsl:when>
        <xsl:when test="@osVirtioNetwork = 'true' or (not(@osVirtioNetwork) and /instance/os/@virtioNetwork = 'true')">virtio</xsl:when>
        <xsl:when test="/instance/NicType = 'e1000' or /instance/NicType = 'rtl8139'"><xsl:value-of select="/instance/NicType"/></xsl:when>
        <xsl:otherwise>e1000</xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <interface type="bridge">
      <source>
        <xsl:attribute name="bridge"><xsl:value-of select="@bridgeDeviceName"/></xsl:attribute>
      </source>
      <mac>
        <!-- libvirt wants lower case; Eucalyptus writes whatever the CLC sent. -->
        <xsl:attribute name="address"><xsl:value-of select="translate(@mac, 'ABCDEF', 'abcdef')"/></xsl:attribute>
      </mac>
      <xsl:if test="string(@guestDeviceName)">
        <target>
          <xsl:attribute name="dev"><xsl:value-of select="@guestDeviceName"/></xsl:attribute>
        </target>
      </xsl:if>
      <!-- Xen guests use netfront: no emulated model. -->
      <xsl:if test="$hypervisor != 'xen'">
        <model>
          <xsl:attribute name="type"><xsl:value-of select="$model"/></xsl:attribute>
        </model>
      </xsl:if>
    </interface>
  </xsl:template>

  <!-- The guest's serial console goes to consoleLogPath so the cloud can show it
       (get-console-output). Xen PV guests use their own console. -->
  <xsl:template name="console">
    <xsl:choose>
      <xsl:when test="$hv = 'xen'">
        <console type="pty"/>
      </xsl:when>
      <xsl:when test="$consoleType = 'file' and string(consoleLogPath)">
        <serial type="file">
          <source>
            <xsl:attribute name="path"><xsl:value-of select="consoleLogPath"/></xsl:attribute>
          </source>
          <target port="0"/>
        </serial>
      </xsl:when>
      <xsl:otherwise>
        <serial type="pty">
          <target port="0"/>
        </serial>
        <console type="pty">
          <target type="serial" port="0"/>
        </console>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- ================================================================== -->
  <!-- /nic: an ENI stub (eni-XXXX.xml) to hot-plug                        -->
  <!-- ================================================================== -->
  <xsl:template match="/nic">
    <xsl:call-template name="interface">
      <xsl:with-param name="hypervisor" select="string(@hypervisorType)"/>
    </xsl:call-template>
  </xsl:template>

  <!-- ================================================================== -->
  <!-- /volume: a volume stub (vol-XXXX.xml) to hot-plug                   -->
  <!-- ================================================================== -->
  <xsl:template match="/volume">
    <xsl:variable name="name" select="diskPath/@targetDeviceName"/>
    <xsl:variable name="virtio" select="os/@virtioDisk = 'true' or diskPath/@targetDeviceBus = 'virtio'"/>
    <disk>
      <xsl:attribute name="type"><xsl:value-of select="diskPath/@sourceType"/></xsl:attribute>
      <xsl:attribute name="device">disk</xsl:attribute>
      <driver name="qemu" type="raw" cache="none"/>
      <source>
        <xsl:choose>
          <xsl:when test="diskPath/@sourceType = 'block'">
            <xsl:attribute name="dev"><xsl:value-of select="diskPath"/></xsl:attribute>
          </xsl:when>
          <xsl:otherwise>
            <xsl:attribute name="file"><xsl:value-of select="diskPath"/></xsl:attribute>
          </xsl:otherwise>
        </xsl:choose>
      </source>
      <target>
        <xsl:choose>
          <xsl:when test="$virtio">
            <xsl:attribute name="dev">vd<xsl:value-of select="substring($name, 3 + starts-with($name, 'xvd'))"/></xsl:attribute>
            <xsl:attribute name="bus">virtio</xsl:attribute>
          </xsl:when>
          <xsl:otherwise>
            <!-- Hot-plug needs a bus that supports it: SCSI (virtio-scsi), not IDE. -->
            <xsl:attribute name="dev">sd<xsl:value-of select="substring($name, 3 + starts-with($name, 'xvd'))"/></xsl:attribute>
            <xsl:attribute name="bus">scsi</xsl:attribute>
          </xsl:otherwise>
        </xsl:choose>
      </target>
      <xsl:if test="string(diskPath/@serial)">
        <serial><xsl:value-of select="diskPath/@serial"/></serial>
      </xsl:if>
    </disk>
  </xsl:template>
</xsl:stylesheet>
