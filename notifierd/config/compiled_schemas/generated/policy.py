"""Whether a document is valid against schemas/policy.schema.json (generated; do not
edit: python -m notifierd.config.compiled_schemas.generate)."""
# ruff: noqa
# mypy: ignore-errors
SCHEMA_DIGEST = "788591105f0e423579a3414715411b6406b5bbcf23702939488da8cd6978444a"
VERSION = "2.22.3"
from decimal import Decimal
import re
class JsonSchemaValueException(ValueError): pass
class JsonSchemaValuesException(ValueError): pass


REGEX_PATTERNS = {
    '^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d|w))+$': re.compile('^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d|w))+\\Z')
}

NoneType = type(None)

def validate_https___notifierd_dev_schemas_policy_schema_json(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['levels']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("")
        data_keys = set(data.keys())
        if "name" in data_keys:
            data_keys.remove("name")
            data__name = data["name"]
            if not isinstance(data__name, (str)):
                raise JsonSchemaValueException("")
        if "description" in data_keys:
            data_keys.remove("description")
            data__description = data["description"]
            if not isinstance(data__description, (str)):
                raise JsonSchemaValueException("")
        if "repeat" in data_keys:
            data_keys.remove("repeat")
            data__repeat = data["repeat"]
            if not isinstance(data__repeat, (int)) and not (isinstance(data__repeat, float) and data__repeat.is_integer()) or isinstance(data__repeat, bool):
                raise JsonSchemaValueException("")
            if isinstance(data__repeat, (int, float, Decimal)) and not isinstance(data__repeat, bool):
                if data__repeat < 0:
                    raise JsonSchemaValueException("")
                if data__repeat > 100:
                    raise JsonSchemaValueException("")
        if "repeat_after" in data_keys:
            data_keys.remove("repeat_after")
            data__repeatafter = data["repeat_after"]
            if not isinstance(data__repeatafter, (str)):
                raise JsonSchemaValueException("")
            if isinstance(data__repeatafter, str):
                if not REGEX_PATTERNS['^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d|w))+$'].search(data__repeatafter):
                    raise JsonSchemaValueException("")
        if "levels" in data_keys:
            data_keys.remove("levels")
            data__levels = data["levels"]
            if not isinstance(data__levels, (list, tuple)):
                raise JsonSchemaValueException("")
            data__levels_is_list = isinstance(data__levels, (list, tuple))
            if data__levels_is_list:
                data__levels_len = len(data__levels)
                if data__levels_len < 1:
                    raise JsonSchemaValueException("")
                for data__levels_x, data__levels_item in enumerate(data__levels):
                    if not isinstance(data__levels_item, (dict)):
                        raise JsonSchemaValueException("")
                    data__levels_item_is_dict = isinstance(data__levels_item, dict)
                    if data__levels_item_is_dict:
                        data__levels_item__missing_keys = set(['after', 'channels']) - data__levels_item.keys()
                        if data__levels_item__missing_keys:
                            raise JsonSchemaValueException("")
                        data__levels_item_keys = set(data__levels_item.keys())
                        if "after" in data__levels_item_keys:
                            data__levels_item_keys.remove("after")
                            data__levels_item__after = data__levels_item["after"]
                            if not isinstance(data__levels_item__after, (str)):
                                raise JsonSchemaValueException("")
                            if isinstance(data__levels_item__after, str):
                                if not REGEX_PATTERNS['^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d|w))+$'].search(data__levels_item__after):
                                    raise JsonSchemaValueException("")
                        if "channels" in data__levels_item_keys:
                            data__levels_item_keys.remove("channels")
                            data__levels_item__channels = data__levels_item["channels"]
                            if not isinstance(data__levels_item__channels, (list, tuple)):
                                raise JsonSchemaValueException("")
                            data__levels_item__channels_is_list = isinstance(data__levels_item__channels, (list, tuple))
                            if data__levels_item__channels_is_list:
                                data__levels_item__channels_len = len(data__levels_item__channels)
                                if data__levels_item__channels_len < 1:
                                    raise JsonSchemaValueException("")
                                for data__levels_item__channels_x, data__levels_item__channels_item in enumerate(data__levels_item__channels):
                                    if not isinstance(data__levels_item__channels_item, (str)):
                                        raise JsonSchemaValueException("")
                        if "recipients" in data__levels_item_keys:
                            data__levels_item_keys.remove("recipients")
                            data__levels_item__recipients = data__levels_item["recipients"]
                            if not isinstance(data__levels_item__recipients, (list, tuple)):
                                raise JsonSchemaValueException("")
                            data__levels_item__recipients_is_list = isinstance(data__levels_item__recipients, (list, tuple))
                            if data__levels_item__recipients_is_list:
                                data__levels_item__recipients_len = len(data__levels_item__recipients)
                                for data__levels_item__recipients_x, data__levels_item__recipients_item in enumerate(data__levels_item__recipients):
                                    if not isinstance(data__levels_item__recipients_item, (str)):
                                        raise JsonSchemaValueException("")
                                    if isinstance(data__levels_item__recipients_item, str):
                                        data__levels_item__recipients_item_len = len(data__levels_item__recipients_item)
                                        if data__levels_item__recipients_item_len < 1:
                                            raise JsonSchemaValueException("")
                        if data__levels_item_keys:
                            raise JsonSchemaValueException("")
        if data_keys:
            raise JsonSchemaValueException("")
    return data
validate = validate_https___notifierd_dev_schemas_policy_schema_json
