# `cpack` (or `cmake --build build --target package`) builds imagepipe_<version>_<arch>.deb:
# the installed tree under /usr, a systemd unit running `imagepipe serve` as the imagepipe
# user with its data in /var/lib/imagepipe, and the service's settings in /etc/imagepipe
# (conffiles). tests/install/deb_package_test.sh installs it with apt-get and starts it.
#
# The unit and /etc files are their own install component, left out of a plain
# `cmake --install`, so installing into a prefix never writes to /etc.
set(IMAGEPIPE_PACKAGING_DIR ${PROJECT_SOURCE_DIR}/packaging)
install(FILES ${IMAGEPIPE_PACKAGING_DIR}/imagepipe.service
        DESTINATION /lib/systemd/system COMPONENT system EXCLUDE_FROM_ALL)
install(FILES ${IMAGEPIPE_PACKAGING_DIR}/serve.yaml ${IMAGEPIPE_PACKAGING_DIR}/imagepipe.env
        DESTINATION /etc/imagepipe COMPONENT system EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/daemon.md
              ${PROJECT_SOURCE_DIR}/docs/install.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT system EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME imagepipe)
set(CPACK_PACKAGE_VENDOR "imagepipe")
set(CPACK_PACKAGE_CONTACT "imagepipe maintainers <maintainers@imagepipe.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Image pipelines (AI providers, transforms, storage) as a CLI and an HTTP service")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Everything in one package: what `cmake --install` installs, plus the service's files.
set(CPACK_INSTALL_CMAKE_PROJECTS
    "${CMAKE_BINARY_DIR};imagepipe;ALL;/" "${CMAKE_BINARY_DIR};imagepipe;system;/")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION graphics)
# Library dependencies as dpkg-shlibdeps finds them; adduser for the postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, fonts-dejavu-core")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${IMAGEPIPE_PACKAGING_DIR}/debian/conffiles ${IMAGEPIPE_PACKAGING_DIR}/debian/postinst
    ${IMAGEPIPE_PACKAGING_DIR}/debian/prerm ${IMAGEPIPE_PACKAGING_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
