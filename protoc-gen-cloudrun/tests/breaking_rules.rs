//! One test per breaking rule: each rule's previous/ and current/ fixtures under
//! `tests/breaking/rules/<RULE>/`, checked with only that rule enabled, must report exactly
//! these (file, line, column, rule) tuples. The tuples were read off buf 1.75 and reviewed;
//! `breaking_parity.rs` re-checks every fixture against the pinned buf itself.

#[path = "breaking_common/mod.rs"]
mod common;

use common::rule_tuples;

#[test]
fn enum_no_delete() {
    assert_eq!(
        rule_tuples("ENUM_NO_DELETE"),
        [
            (Some("a.proto".to_string()), 1, 1, "ENUM_NO_DELETE"),
            (Some("a.proto".to_string()), 4, 1, "ENUM_NO_DELETE"),
            (Some("a.proto".to_string()), 4, 1, "ENUM_NO_DELETE"),
        ]
    );
}

#[test]
fn enum_same_json_format() {
    assert_eq!(
        rule_tuples("ENUM_SAME_JSON_FORMAT"),
        [(Some("a.proto".to_string()), 4, 1, "ENUM_SAME_JSON_FORMAT"),]
    );
}

#[test]
fn enum_same_type() {
    assert_eq!(
        rule_tuples("ENUM_SAME_TYPE"),
        [
            (Some("a.proto".to_string()), 4, 1, "ENUM_SAME_TYPE"),
            (Some("b.proto".to_string()), 4, 1, "ENUM_SAME_TYPE"),
        ]
    );
}

#[test]
fn enum_value_no_delete() {
    assert_eq!(
        rule_tuples("ENUM_VALUE_NO_DELETE"),
        [
            (Some("a.proto".to_string()), 4, 1, "ENUM_VALUE_NO_DELETE"),
            (Some("a.proto".to_string()), 4, 1, "ENUM_VALUE_NO_DELETE"),
            (Some("a.proto".to_string()), 13, 3, "ENUM_VALUE_NO_DELETE"),
        ]
    );
}

#[test]
fn enum_value_no_delete_unless_name_reserved() {
    assert_eq!(
        rule_tuples("ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED"),
        [
            (
                Some("a.proto".to_string()),
                4,
                1,
                "ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED"
            ),
            (
                Some("a.proto".to_string()),
                4,
                1,
                "ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED"
            ),
        ]
    );
}

#[test]
fn enum_value_no_delete_unless_number_reserved() {
    assert_eq!(
        rule_tuples("ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED"),
        [
            (
                Some("a.proto".to_string()),
                4,
                1,
                "ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED"
            ),
            (
                Some("a.proto".to_string()),
                4,
                1,
                "ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED"
            ),
        ]
    );
}

#[test]
fn enum_value_same_name() {
    assert_eq!(
        rule_tuples("ENUM_VALUE_SAME_NAME"),
        [
            (Some("a.proto".to_string()), 7, 11, "ENUM_VALUE_SAME_NAME"),
            (Some("a.proto".to_string()), 8, 11, "ENUM_VALUE_SAME_NAME"),
            (Some("a.proto".to_string()), 9, 12, "ENUM_VALUE_SAME_NAME"),
            (Some("a.proto".to_string()), 12, 12, "ENUM_VALUE_SAME_NAME"),
            (Some("a.proto".to_string()), 13, 14, "ENUM_VALUE_SAME_NAME"),
        ]
    );
}

#[test]
fn extension_message_no_delete() {
    assert_eq!(
        rule_tuples("EXTENSION_MESSAGE_NO_DELETE"),
        [
            (
                Some("a.proto".to_string()),
                4,
                1,
                "EXTENSION_MESSAGE_NO_DELETE"
            ),
            (
                Some("a.proto".to_string()),
                4,
                1,
                "EXTENSION_MESSAGE_NO_DELETE"
            ),
            (
                Some("a.proto".to_string()),
                4,
                1,
                "EXTENSION_MESSAGE_NO_DELETE"
            ),
        ]
    );
}

#[test]
fn extension_no_delete() {
    assert_eq!(
        rule_tuples("EXTENSION_NO_DELETE"),
        [
            (Some("a.proto".to_string()), 1, 1, "EXTENSION_NO_DELETE"),
            (Some("a.proto".to_string()), 12, 1, "EXTENSION_NO_DELETE"),
            (Some("a.proto".to_string()), 12, 1, "EXTENSION_NO_DELETE"),
        ]
    );
}

#[test]
fn field_no_delete() {
    assert_eq!(
        rule_tuples("FIELD_NO_DELETE"),
        [
            (Some("a.proto".to_string()), 4, 1, "FIELD_NO_DELETE"),
            (Some("a.proto".to_string()), 4, 1, "FIELD_NO_DELETE"),
            (Some("a.proto".to_string()), 4, 1, "FIELD_NO_DELETE"),
            (Some("a.proto".to_string()), 8, 3, "FIELD_NO_DELETE"),
        ]
    );
}

#[test]
fn field_no_delete_unless_name_reserved() {
    assert_eq!(
        rule_tuples("FIELD_NO_DELETE_UNLESS_NAME_RESERVED"),
        [
            (
                Some("a.proto".to_string()),
                4,
                1,
                "FIELD_NO_DELETE_UNLESS_NAME_RESERVED"
            ),
            (
                Some("a.proto".to_string()),
                4,
                1,
                "FIELD_NO_DELETE_UNLESS_NAME_RESERVED"
            ),
        ]
    );
}

#[test]
fn field_no_delete_unless_number_reserved() {
    assert_eq!(
        rule_tuples("FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED"),
        [(
            Some("a.proto".to_string()),
            4,
            1,
            "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED"
        ),]
    );
}

#[test]
fn field_same_cardinality() {
    assert_eq!(
        rule_tuples("FIELD_SAME_CARDINALITY"),
        [
            (Some("a.proto".to_string()), 5, 3, "FIELD_SAME_CARDINALITY"),
            (Some("a.proto".to_string()), 6, 3, "FIELD_SAME_CARDINALITY"),
            (Some("a.proto".to_string()), 7, 3, "FIELD_SAME_CARDINALITY"),
            (Some("a.proto".to_string()), 8, 3, "FIELD_SAME_CARDINALITY"),
            (Some("a.proto".to_string()), 9, 3, "FIELD_SAME_CARDINALITY"),
            (Some("a.proto".to_string()), 11, 3, "FIELD_SAME_CARDINALITY"),
            (Some("b.proto".to_string()), 5, 3, "FIELD_SAME_CARDINALITY"),
            (Some("b.proto".to_string()), 6, 3, "FIELD_SAME_CARDINALITY"),
            (Some("b.proto".to_string()), 7, 3, "FIELD_SAME_CARDINALITY"),
        ]
    );
}

#[test]
fn field_same_cpp_string_type() {
    assert_eq!(
        rule_tuples("FIELD_SAME_CPP_STRING_TYPE"),
        [
            (
                Some("a.proto".to_string()),
                5,
                32,
                "FIELD_SAME_CPP_STRING_TYPE"
            ),
            (
                Some("a.proto".to_string()),
                7,
                39,
                "FIELD_SAME_CPP_STRING_TYPE"
            ),
            (
                Some("a.proto".to_string()),
                8,
                3,
                "FIELD_SAME_CPP_STRING_TYPE"
            ),
        ]
    );
}

#[test]
fn field_same_default() {
    assert_eq!(
        rule_tuples("FIELD_SAME_DEFAULT"),
        [
            (Some("a.proto".to_string()), 5, 25, "FIELD_SAME_DEFAULT"),
            (Some("a.proto".to_string()), 6, 26, "FIELD_SAME_DEFAULT"),
            (Some("a.proto".to_string()), 7, 25, "FIELD_SAME_DEFAULT"),
            (Some("a.proto".to_string()), 8, 26, "FIELD_SAME_DEFAULT"),
            (Some("a.proto".to_string()), 9, 25, "FIELD_SAME_DEFAULT"),
            (Some("a.proto".to_string()), 10, 21, "FIELD_SAME_DEFAULT"),
            (Some("a.proto".to_string()), 11, 3, "FIELD_SAME_DEFAULT"),
            (Some("a.proto".to_string()), 12, 3, "FIELD_SAME_DEFAULT"),
            (Some("a.proto".to_string()), 13, 28, "FIELD_SAME_DEFAULT"),
            (Some("a.proto".to_string()), 14, 3, "FIELD_SAME_DEFAULT"),
            (Some("a.proto".to_string()), 15, 29, "FIELD_SAME_DEFAULT"),
            (Some("a.proto".to_string()), 16, 31, "FIELD_SAME_DEFAULT"),
            (Some("a.proto".to_string()), 21, 5, "FIELD_SAME_DEFAULT"),
        ]
    );
}

#[test]
fn field_same_java_utf8_validation() {
    assert_eq!(
        rule_tuples("FIELD_SAME_JAVA_UTF8_VALIDATION"),
        [
            (
                Some("a.proto".to_string()),
                4,
                1,
                "FIELD_SAME_JAVA_UTF8_VALIDATION"
            ),
            (
                Some("b.proto".to_string()),
                5,
                3,
                "FIELD_SAME_JAVA_UTF8_VALIDATION"
            ),
        ]
    );
}

#[test]
fn field_same_json_name() {
    assert_eq!(
        rule_tuples("FIELD_SAME_JSON_NAME"),
        [
            (Some("a.proto".to_string()), 5, 23, "FIELD_SAME_JSON_NAME"),
            (Some("a.proto".to_string()), 6, 21, "FIELD_SAME_JSON_NAME"),
            (Some("a.proto".to_string()), 7, 3, "FIELD_SAME_JSON_NAME"),
            (Some("a.proto".to_string()), 9, 3, "FIELD_SAME_JSON_NAME"),
        ]
    );
}

#[test]
fn field_same_jstype() {
    assert_eq!(
        rule_tuples("FIELD_SAME_JSTYPE"),
        [
            (Some("a.proto".to_string()), 5, 3, "FIELD_SAME_JSTYPE"),
            (Some("a.proto".to_string()), 6, 32, "FIELD_SAME_JSTYPE"),
            (Some("a.proto".to_string()), 8, 33, "FIELD_SAME_JSTYPE"),
        ]
    );
}

#[test]
fn field_same_name() {
    assert_eq!(
        rule_tuples("FIELD_SAME_NAME"),
        [
            (Some("a.proto".to_string()), 5, 19, "FIELD_SAME_NAME"),
            (Some("a.proto".to_string()), 11, 18, "FIELD_SAME_NAME"),
        ]
    );
}

#[test]
fn field_same_oneof() {
    assert_eq!(
        rule_tuples("FIELD_SAME_ONEOF"),
        [
            (Some("a.proto".to_string()), 6, 5, "FIELD_SAME_ONEOF"),
            (Some("a.proto".to_string()), 7, 5, "FIELD_SAME_ONEOF"),
            (Some("a.proto".to_string()), 11, 5, "FIELD_SAME_ONEOF"),
            (Some("a.proto".to_string()), 13, 3, "FIELD_SAME_ONEOF"),
        ]
    );
}

#[test]
fn field_same_type() {
    assert_eq!(
        rule_tuples("FIELD_SAME_TYPE"),
        [
            (Some("a.proto".to_string()), 5, 3, "FIELD_SAME_TYPE"),
            (Some("a.proto".to_string()), 6, 3, "FIELD_SAME_TYPE"),
            (Some("a.proto".to_string()), 7, 3, "FIELD_SAME_TYPE"),
            (Some("a.proto".to_string()), 8, 3, "FIELD_SAME_TYPE"),
            (Some("a.proto".to_string()), 9, 3, "FIELD_SAME_TYPE"),
            (Some("a.proto".to_string()), 10, 3, "FIELD_SAME_TYPE"),
            (Some("a.proto".to_string()), 12, 3, "FIELD_SAME_TYPE"),
            (Some("g.proto".to_string()), 5, 12, "FIELD_SAME_TYPE"),
            (Some("g.proto".to_string()), 6, 12, "FIELD_SAME_TYPE"),
        ]
    );
}

#[test]
fn field_same_utf8_validation() {
    assert_eq!(
        rule_tuples("FIELD_SAME_UTF8_VALIDATION"),
        [(
            Some("a.proto".to_string()),
            5,
            3,
            "FIELD_SAME_UTF8_VALIDATION"
        ),]
    );
}

#[test]
fn field_wire_compatible_cardinality() {
    assert_eq!(
        rule_tuples("FIELD_WIRE_COMPATIBLE_CARDINALITY"),
        [
            (
                Some("a.proto".to_string()),
                6,
                3,
                "FIELD_WIRE_COMPATIBLE_CARDINALITY"
            ),
            (
                Some("a.proto".to_string()),
                9,
                3,
                "FIELD_WIRE_COMPATIBLE_CARDINALITY"
            ),
            (
                Some("b.proto".to_string()),
                5,
                3,
                "FIELD_WIRE_COMPATIBLE_CARDINALITY"
            ),
            (
                Some("b.proto".to_string()),
                6,
                3,
                "FIELD_WIRE_COMPATIBLE_CARDINALITY"
            ),
        ]
    );
}

#[test]
fn field_wire_compatible_type() {
    assert_eq!(
        rule_tuples("FIELD_WIRE_COMPATIBLE_TYPE"),
        [
            (
                Some("a.proto".to_string()),
                11,
                3,
                "FIELD_WIRE_COMPATIBLE_TYPE"
            ),
            (
                Some("a.proto".to_string()),
                12,
                3,
                "FIELD_WIRE_COMPATIBLE_TYPE"
            ),
            (
                Some("a.proto".to_string()),
                16,
                3,
                "FIELD_WIRE_COMPATIBLE_TYPE"
            ),
            (
                Some("a.proto".to_string()),
                17,
                3,
                "FIELD_WIRE_COMPATIBLE_TYPE"
            ),
            (
                Some("a.proto".to_string()),
                18,
                3,
                "FIELD_WIRE_COMPATIBLE_TYPE"
            ),
            (
                Some("a.proto".to_string()),
                19,
                3,
                "FIELD_WIRE_COMPATIBLE_TYPE"
            ),
            (
                Some("a.proto".to_string()),
                20,
                3,
                "FIELD_WIRE_COMPATIBLE_TYPE"
            ),
            (
                Some("a.proto".to_string()),
                21,
                3,
                "FIELD_WIRE_COMPATIBLE_TYPE"
            ),
        ]
    );
}

#[test]
fn field_wire_json_compatible_cardinality() {
    assert_eq!(
        rule_tuples("FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY"),
        [
            (
                Some("a.proto".to_string()),
                6,
                3,
                "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY"
            ),
            (
                Some("a.proto".to_string()),
                7,
                3,
                "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY"
            ),
            (
                Some("a.proto".to_string()),
                8,
                3,
                "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY"
            ),
            (
                Some("a.proto".to_string()),
                9,
                3,
                "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY"
            ),
            (
                Some("b.proto".to_string()),
                5,
                3,
                "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY"
            ),
            (
                Some("b.proto".to_string()),
                6,
                3,
                "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY"
            ),
        ]
    );
}

#[test]
fn field_wire_json_compatible_type() {
    assert_eq!(
        rule_tuples("FIELD_WIRE_JSON_COMPATIBLE_TYPE"),
        [
            (
                Some("a.proto".to_string()),
                8,
                3,
                "FIELD_WIRE_JSON_COMPATIBLE_TYPE"
            ),
            (
                Some("a.proto".to_string()),
                10,
                3,
                "FIELD_WIRE_JSON_COMPATIBLE_TYPE"
            ),
            (
                Some("a.proto".to_string()),
                11,
                3,
                "FIELD_WIRE_JSON_COMPATIBLE_TYPE"
            ),
            (
                Some("a.proto".to_string()),
                12,
                3,
                "FIELD_WIRE_JSON_COMPATIBLE_TYPE"
            ),
            (
                Some("a.proto".to_string()),
                14,
                3,
                "FIELD_WIRE_JSON_COMPATIBLE_TYPE"
            ),
            (
                Some("a.proto".to_string()),
                16,
                3,
                "FIELD_WIRE_JSON_COMPATIBLE_TYPE"
            ),
            (
                Some("a.proto".to_string()),
                17,
                3,
                "FIELD_WIRE_JSON_COMPATIBLE_TYPE"
            ),
            (
                Some("a.proto".to_string()),
                18,
                3,
                "FIELD_WIRE_JSON_COMPATIBLE_TYPE"
            ),
            (
                Some("a.proto".to_string()),
                19,
                3,
                "FIELD_WIRE_JSON_COMPATIBLE_TYPE"
            ),
            (
                Some("a.proto".to_string()),
                20,
                3,
                "FIELD_WIRE_JSON_COMPATIBLE_TYPE"
            ),
            (
                Some("a.proto".to_string()),
                21,
                3,
                "FIELD_WIRE_JSON_COMPATIBLE_TYPE"
            ),
        ]
    );
}

#[test]
fn file_no_delete() {
    assert_eq!(
        rule_tuples("FILE_NO_DELETE"),
        [
            (None, 1, 1, "FILE_NO_DELETE"),
            (None, 1, 1, "FILE_NO_DELETE"),
        ]
    );
}

#[test]
fn file_same_cc_enable_arenas() {
    assert_eq!(
        rule_tuples("FILE_SAME_CC_ENABLE_ARENAS"),
        [(
            Some("a.proto".to_string()),
            4,
            1,
            "FILE_SAME_CC_ENABLE_ARENAS"
        ),]
    );
}

#[test]
fn file_same_cc_generic_services() {
    assert_eq!(
        rule_tuples("FILE_SAME_CC_GENERIC_SERVICES"),
        [(
            Some("a.proto".to_string()),
            1,
            1,
            "FILE_SAME_CC_GENERIC_SERVICES"
        ),]
    );
}

#[test]
fn file_same_csharp_namespace() {
    assert_eq!(
        rule_tuples("FILE_SAME_CSHARP_NAMESPACE"),
        [(
            Some("a.proto".to_string()),
            4,
            1,
            "FILE_SAME_CSHARP_NAMESPACE"
        ),]
    );
}

#[test]
fn file_same_go_package() {
    assert_eq!(
        rule_tuples("FILE_SAME_GO_PACKAGE"),
        [(Some("a.proto".to_string()), 1, 1, "FILE_SAME_GO_PACKAGE"),]
    );
}

#[test]
fn file_same_java_generic_services() {
    assert_eq!(
        rule_tuples("FILE_SAME_JAVA_GENERIC_SERVICES"),
        [(
            Some("a.proto".to_string()),
            4,
            1,
            "FILE_SAME_JAVA_GENERIC_SERVICES"
        ),]
    );
}

#[test]
fn file_same_java_multiple_files() {
    assert_eq!(
        rule_tuples("FILE_SAME_JAVA_MULTIPLE_FILES"),
        [(
            Some("a.proto".to_string()),
            4,
            1,
            "FILE_SAME_JAVA_MULTIPLE_FILES"
        ),]
    );
}

#[test]
fn file_same_java_outer_classname() {
    assert_eq!(
        rule_tuples("FILE_SAME_JAVA_OUTER_CLASSNAME"),
        [(
            Some("a.proto".to_string()),
            4,
            1,
            "FILE_SAME_JAVA_OUTER_CLASSNAME"
        ),]
    );
}

#[test]
fn file_same_java_package() {
    assert_eq!(
        rule_tuples("FILE_SAME_JAVA_PACKAGE"),
        [(Some("a.proto".to_string()), 1, 1, "FILE_SAME_JAVA_PACKAGE"),]
    );
}

#[test]
fn file_same_objc_class_prefix() {
    assert_eq!(
        rule_tuples("FILE_SAME_OBJC_CLASS_PREFIX"),
        [(
            Some("a.proto".to_string()),
            4,
            1,
            "FILE_SAME_OBJC_CLASS_PREFIX"
        ),]
    );
}

#[test]
fn file_same_optimize_for() {
    assert_eq!(
        rule_tuples("FILE_SAME_OPTIMIZE_FOR"),
        [(Some("a.proto".to_string()), 4, 1, "FILE_SAME_OPTIMIZE_FOR"),]
    );
}

#[test]
fn file_same_package() {
    assert_eq!(
        rule_tuples("FILE_SAME_PACKAGE"),
        [
            (Some("a.proto".to_string()), 2, 1, "FILE_SAME_PACKAGE"),
            (Some("b.proto".to_string()), 2, 1, "FILE_SAME_PACKAGE"),
            (Some("c.proto".to_string()), 1, 1, "FILE_SAME_PACKAGE"),
        ]
    );
}

#[test]
fn file_same_php_class_prefix() {
    assert_eq!(
        rule_tuples("FILE_SAME_PHP_CLASS_PREFIX"),
        [(
            Some("a.proto".to_string()),
            4,
            1,
            "FILE_SAME_PHP_CLASS_PREFIX"
        ),]
    );
}

#[test]
fn file_same_php_metadata_namespace() {
    assert_eq!(
        rule_tuples("FILE_SAME_PHP_METADATA_NAMESPACE"),
        [(
            Some("a.proto".to_string()),
            4,
            1,
            "FILE_SAME_PHP_METADATA_NAMESPACE"
        ),]
    );
}

#[test]
fn file_same_php_namespace() {
    assert_eq!(
        rule_tuples("FILE_SAME_PHP_NAMESPACE"),
        [(Some("a.proto".to_string()), 4, 1, "FILE_SAME_PHP_NAMESPACE"),]
    );
}

#[test]
fn file_same_py_generic_services() {
    assert_eq!(
        rule_tuples("FILE_SAME_PY_GENERIC_SERVICES"),
        [(
            Some("a.proto".to_string()),
            1,
            1,
            "FILE_SAME_PY_GENERIC_SERVICES"
        ),]
    );
}

#[test]
fn file_same_ruby_package() {
    assert_eq!(
        rule_tuples("FILE_SAME_RUBY_PACKAGE"),
        [(Some("a.proto".to_string()), 4, 1, "FILE_SAME_RUBY_PACKAGE"),]
    );
}

#[test]
fn file_same_swift_prefix() {
    assert_eq!(
        rule_tuples("FILE_SAME_SWIFT_PREFIX"),
        [(Some("a.proto".to_string()), 4, 1, "FILE_SAME_SWIFT_PREFIX"),]
    );
}

#[test]
fn file_same_syntax() {
    assert_eq!(
        rule_tuples("FILE_SAME_SYNTAX"),
        [
            (Some("a.proto".to_string()), 1, 1, "FILE_SAME_SYNTAX"),
            (Some("c.proto".to_string()), 1, 1, "FILE_SAME_SYNTAX"),
        ]
    );
}

#[test]
fn message_no_delete() {
    assert_eq!(
        rule_tuples("MESSAGE_NO_DELETE"),
        [
            (Some("a.proto".to_string()), 1, 1, "MESSAGE_NO_DELETE"),
            (Some("a.proto".to_string()), 4, 1, "MESSAGE_NO_DELETE"),
            (Some("a.proto".to_string()), 4, 1, "MESSAGE_NO_DELETE"),
            (Some("a.proto".to_string()), 4, 1, "MESSAGE_NO_DELETE"),
            (Some("a.proto".to_string()), 4, 1, "MESSAGE_NO_DELETE"),
        ]
    );
}

#[test]
fn message_no_remove_standard_descriptor_accessor() {
    assert_eq!(
        rule_tuples("MESSAGE_NO_REMOVE_STANDARD_DESCRIPTOR_ACCESSOR"),
        [
            (
                Some("a.proto".to_string()),
                5,
                3,
                "MESSAGE_NO_REMOVE_STANDARD_DESCRIPTOR_ACCESSOR"
            ),
            (
                Some("a.proto".to_string()),
                9,
                3,
                "MESSAGE_NO_REMOVE_STANDARD_DESCRIPTOR_ACCESSOR"
            ),
        ]
    );
}

#[test]
fn message_same_json_format() {
    assert_eq!(
        rule_tuples("MESSAGE_SAME_JSON_FORMAT"),
        [
            (
                Some("a.proto".to_string()),
                4,
                1,
                "MESSAGE_SAME_JSON_FORMAT"
            ),
            (
                Some("a.proto".to_string()),
                5,
                3,
                "MESSAGE_SAME_JSON_FORMAT"
            ),
        ]
    );
}

#[test]
fn message_same_required_fields() {
    assert_eq!(
        rule_tuples("MESSAGE_SAME_REQUIRED_FIELDS"),
        [
            (
                Some("a.proto".to_string()),
                4,
                1,
                "MESSAGE_SAME_REQUIRED_FIELDS"
            ),
            (
                Some("a.proto".to_string()),
                4,
                1,
                "MESSAGE_SAME_REQUIRED_FIELDS"
            ),
            (
                Some("a.proto".to_string()),
                7,
                3,
                "MESSAGE_SAME_REQUIRED_FIELDS"
            ),
            (
                Some("a.proto".to_string()),
                8,
                3,
                "MESSAGE_SAME_REQUIRED_FIELDS"
            ),
        ]
    );
}

#[test]
fn oneof_no_delete() {
    assert_eq!(
        rule_tuples("ONEOF_NO_DELETE"),
        [(Some("a.proto".to_string()), 4, 1, "ONEOF_NO_DELETE"),]
    );
}

#[test]
fn package_enum_no_delete() {
    assert_eq!(
        rule_tuples("PACKAGE_ENUM_NO_DELETE"),
        [
            (None, 1, 1, "PACKAGE_ENUM_NO_DELETE"),
            (Some("a.proto".to_string()), 1, 1, "PACKAGE_ENUM_NO_DELETE"),
            (Some("a.proto".to_string()), 4, 1, "PACKAGE_ENUM_NO_DELETE"),
        ]
    );
}

#[test]
fn package_extension_no_delete() {
    assert_eq!(
        rule_tuples("PACKAGE_EXTENSION_NO_DELETE"),
        [
            (None, 1, 1, "PACKAGE_EXTENSION_NO_DELETE"),
            (
                Some("a.proto".to_string()),
                1,
                1,
                "PACKAGE_EXTENSION_NO_DELETE"
            ),
            (
                Some("a.proto".to_string()),
                8,
                1,
                "PACKAGE_EXTENSION_NO_DELETE"
            ),
        ]
    );
}

#[test]
fn package_message_no_delete() {
    assert_eq!(
        rule_tuples("PACKAGE_MESSAGE_NO_DELETE"),
        [
            (None, 1, 1, "PACKAGE_MESSAGE_NO_DELETE"),
            (
                Some("a.proto".to_string()),
                1,
                1,
                "PACKAGE_MESSAGE_NO_DELETE"
            ),
            (
                Some("a.proto".to_string()),
                4,
                1,
                "PACKAGE_MESSAGE_NO_DELETE"
            ),
        ]
    );
}

#[test]
fn package_no_delete() {
    assert_eq!(
        rule_tuples("PACKAGE_NO_DELETE"),
        [
            (None, 1, 1, "PACKAGE_NO_DELETE"),
            (None, 1, 1, "PACKAGE_NO_DELETE"),
        ]
    );
}

#[test]
fn package_service_no_delete() {
    assert_eq!(
        rule_tuples("PACKAGE_SERVICE_NO_DELETE"),
        [
            (None, 1, 1, "PACKAGE_SERVICE_NO_DELETE"),
            (
                Some("a.proto".to_string()),
                1,
                1,
                "PACKAGE_SERVICE_NO_DELETE"
            ),
        ]
    );
}

#[test]
fn reserved_enum_no_delete() {
    assert_eq!(
        rule_tuples("RESERVED_ENUM_NO_DELETE"),
        [
            (Some("a.proto".to_string()), 4, 1, "RESERVED_ENUM_NO_DELETE"),
            (Some("a.proto".to_string()), 4, 1, "RESERVED_ENUM_NO_DELETE"),
            (Some("a.proto".to_string()), 4, 1, "RESERVED_ENUM_NO_DELETE"),
            (Some("a.proto".to_string()), 4, 1, "RESERVED_ENUM_NO_DELETE"),
        ]
    );
}

#[test]
fn reserved_message_no_delete() {
    assert_eq!(
        rule_tuples("RESERVED_MESSAGE_NO_DELETE"),
        [
            (
                Some("a.proto".to_string()),
                4,
                1,
                "RESERVED_MESSAGE_NO_DELETE"
            ),
            (
                Some("a.proto".to_string()),
                4,
                1,
                "RESERVED_MESSAGE_NO_DELETE"
            ),
            (
                Some("a.proto".to_string()),
                4,
                1,
                "RESERVED_MESSAGE_NO_DELETE"
            ),
            (
                Some("a.proto".to_string()),
                4,
                1,
                "RESERVED_MESSAGE_NO_DELETE"
            ),
        ]
    );
}

#[test]
fn rpc_no_delete() {
    assert_eq!(
        rule_tuples("RPC_NO_DELETE"),
        [
            (Some("a.proto".to_string()), 6, 1, "RPC_NO_DELETE"),
            (Some("a.proto".to_string()), 6, 1, "RPC_NO_DELETE"),
        ]
    );
}

#[test]
fn rpc_same_client_streaming() {
    assert_eq!(
        rule_tuples("RPC_SAME_CLIENT_STREAMING"),
        [
            (
                Some("a.proto".to_string()),
                9,
                3,
                "RPC_SAME_CLIENT_STREAMING"
            ),
            (
                Some("a.proto".to_string()),
                10,
                3,
                "RPC_SAME_CLIENT_STREAMING"
            ),
        ]
    );
}

#[test]
fn rpc_same_idempotency_level() {
    assert_eq!(
        rule_tuples("RPC_SAME_IDEMPOTENCY_LEVEL"),
        [
            (
                Some("a.proto".to_string()),
                1,
                1,
                "RPC_SAME_IDEMPOTENCY_LEVEL"
            ),
            (
                Some("a.proto".to_string()),
                16,
                5,
                "RPC_SAME_IDEMPOTENCY_LEVEL"
            ),
            (
                Some("a.proto".to_string()),
                20,
                5,
                "RPC_SAME_IDEMPOTENCY_LEVEL"
            ),
        ]
    );
}

#[test]
fn rpc_same_request_type() {
    assert_eq!(
        rule_tuples("RPC_SAME_REQUEST_TYPE"),
        [(Some("a.proto".to_string()), 13, 15, "RPC_SAME_REQUEST_TYPE"),]
    );
}

#[test]
fn rpc_same_response_type() {
    assert_eq!(
        rule_tuples("RPC_SAME_RESPONSE_TYPE"),
        [(
            Some("a.proto".to_string()),
            14,
            30,
            "RPC_SAME_RESPONSE_TYPE"
        ),]
    );
}

#[test]
fn rpc_same_server_streaming() {
    assert_eq!(
        rule_tuples("RPC_SAME_SERVER_STREAMING"),
        [
            (
                Some("a.proto".to_string()),
                11,
                3,
                "RPC_SAME_SERVER_STREAMING"
            ),
            (
                Some("a.proto".to_string()),
                12,
                3,
                "RPC_SAME_SERVER_STREAMING"
            ),
        ]
    );
}

#[test]
fn service_no_delete() {
    assert_eq!(
        rule_tuples("SERVICE_NO_DELETE"),
        [(Some("a.proto".to_string()), 1, 1, "SERVICE_NO_DELETE"),]
    );
}
